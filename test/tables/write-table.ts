/**
 * docs/debugfs.md §2 write table: input bytes → what `modern` (kstrtoull) stores or returns, and what
 * `2.6.35` (simple_strtol) stores, as the full u64 before truncation to the file's width.
 */
export const WRITE_TABLE: [input: string, modern: bigint | 'EINVAL' | 'ERANGE', old: bigint][] = [
  ['1\n', 1n, 1n],
  ['1', 1n, 1n],
  ['+1', 1n, 0n],
  ['0x1F', 31n, 31n],
  ['0X1f', 31n, 31n],
  ['010', 8n, 8n],
  ['08', 'EINVAL', 0n],
  ['0x', 'EINVAL', 0n],
  ['12abc', 'EINVAL', 12n],
  ['abc', 'EINVAL', 0n],
  [' 1', 'EINVAL', 0n],
  ['1\n\n', 'EINVAL', 1n],
  ['\n', 'EINVAL', 0n],
  ['', 'EINVAL', 0n],
  ['-1', 'EINVAL', (1n << 64n) - 1n],
  ['18446744073709551615', (1n << 64n) - 1n, (1n << 64n) - 1n],
  ['18446744073709551616', 'ERANGE', 0n],
  ['256', 256n, 256n],
  ['4294967295\n', 4294967295n, 4294967295n],
  ['4294967296', 4294967296n, 4294967296n],
];
