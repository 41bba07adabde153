export async function runCli(argv: string[]): Promise<number> { console.log(argv.length); return 0; }
