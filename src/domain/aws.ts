/** Shapes of AWS identifiers, shared by every input check. */
export const ACCOUNT_ID = /^\d{12}$/;
export const REGION = /^[a-z]{2}(-[a-z]+)+-\d{1,2}$/;
export const ORG_ID = /^o-[a-z0-9]{10,32}$/;
