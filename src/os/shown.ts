/** The most characters of a path a message shows. */
const PATH_SHOWN_MAX = 200;

/**
 * A path as a message or a `key=value` line may show it: control characters escaped (a newline
 * in a name cannot forge a log line, an escape sequence cannot reach the terminal) and a very long
 * path cut, with its length said.
 */
export function shownPath(path: string, max = PATH_SHOWN_MAX): string {
  // eslint-disable-next-line no-control-regex
  const oneLine = path.replace(/[\u0000-\u001f\u007f-\u009f\\]/g, (c) =>
    c === '\\'
      ? '\\\\'
      : c === '\n'
        ? '\\n'
        : c === '\t'
          ? '\\t'
          : `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`,
  );
  if (oneLine.length <= max) return oneLine;
  return `${oneLine.slice(0, max)}… (${path.length} characters)`;
}
