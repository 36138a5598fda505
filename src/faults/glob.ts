/**
 * Globs over a path relative to the mount's root (`kvm/spinlocks/histo_*`): `*` is any run of
 * characters but `/`, `**` any run including `/`, `?` one character but `/`; everything else is
 * itself. Several globs are separated by spaces or newlines; a path matches if one matches. No
 * glob at all matches every path.
 */
export function compileGlobs(text: string): (path: string) => boolean {
  const globs = text.split(/\s+/).filter((g) => g !== '');
  if (globs.length === 0) return () => true;
  const res = globs.map((g) => new RegExp(`^${globSource(g.replace(/^\/+/, ''))}$`));
  return (path) => res.some((r) => r.test(path));
}

function globSource(glob: string): string {
  let out = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*' && glob[i + 1] === '*') {
      out += '.*';
      i += 1;
    } else if (c === '*') out += '[^/]*';
    else if (c === '?') out += '[^/]';
    else out += c.replace(/[.+^${}()|[\]\\]/g, '\\$&');
  }
  return out;
}
