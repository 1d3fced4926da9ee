/** The components bundle: importing it defines every trailql element. */
export { TrailqlActivity } from './trailql-activity';
export { TrailqlCalls } from './trailql-calls';
export { TrailqlCaller } from './trailql-caller';
export { TrailqlConsole } from './trailql-console';
export { RequestFailure } from './client';
export type { TokenProvider } from './client';
