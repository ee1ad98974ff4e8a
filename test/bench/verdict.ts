/** One line of the bench's verdict: a measured ratio (or figure) against its target. */
export interface Verdict {
  measure: string;
  value: number;
  target: number;
  /** 'min': value must be >= target; 'max': value must be <= target. */
  kind: 'min' | 'max';
  unit?: string;
}

export function passes(v: Verdict): boolean {
  return v.kind === 'min' ? v.value >= v.target : v.value <= v.target;
}

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}
