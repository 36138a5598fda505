export async function mountCommand(_o: unknown): Promise<number> { return 1; }
