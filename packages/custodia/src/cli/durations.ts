/** Parses `90s`, `10m`, `2h` or plain seconds (operator input). */
export function parseDuration(text: string): number | undefined {
  const m = /^(\d{1,6})([smh]?)$/.exec(text.trim());
  if (m === null) return undefined;
  const n = Number(m[1]);
  const unit = m[2] === 'h' ? 3600 : m[2] === 'm' ? 60 : 1;
  return n * unit;
}
