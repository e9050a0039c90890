const UNIT_SECONDS = { s: 1, m: 60, h: 3600, d: 86_400 } as const;

/** A whole number of seconds, optionally with a unit: "90", "90s", "30m", "24h", "7d". Null when it is not one. */
export function parseDurationSeconds(text: string): number | null {
  const match = /^\s*(\d{1,9})\s*([smhd])?\s*$/.exec(text);
  if (!match) return null;
  const seconds = Number(match[1]) * UNIT_SECONDS[(match[2] ?? 's') as keyof typeof UNIT_SECONDS];
  return seconds > 0 ? seconds : null;
}
