/**
 * 250 MiB of spaces, brotli-compressed to a couple of hundred bytes: a hostile cache entry body.
 * Made once with `zlib.brotliCompressSync(Buffer.alloc(250 * 1024 * 1024, 0x20), { params:
 * { [BROTLI_PARAM_QUALITY]: 5, [BROTLI_PARAM_LGWIN]: 24 } })` and kept here, since making it takes
 * seconds.
 */
export const INFLATE_BOMB_BYTES = 250 * 1024 * 1024;
export const INFLATE_BOMB = Buffer.from('z///fwAkQOKxQHLv//n//w+ABEAcFoDu/T////8BkACIwwLQvf/n//8/ABIAcVgAuvf//P//B0ACIA4LQPf+n////wBIAMRhAeje//P//x8ACYA4LADd+3/+//8DIAEQhwWge//P//9/ACQA4rAAdO//+f//D4AEQBwWgO79P////wGQAIjDAtC9/+f//z8AEgBxWAC69//8//8HQAIgDgtA9/6f////AEgAxGEB6N7/8///HwAJgDgsAN37//z//wQgARCHBaB7/wk=', 'base64');
