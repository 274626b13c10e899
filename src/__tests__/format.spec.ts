import { formatAge, formatQueueLength } from '../format';

describe('formatQueueLength', () => {
  it('pluralises jobs', () => {
    expect(formatQueueLength(0)).toBe('0 jobs');
    expect(formatQueueLength(1)).toBe('1 job');
    expect(formatQueueLength(12)).toBe('12 jobs');
  });

  it('groups thousands', () => {
    expect(formatQueueLength(1234)).toBe('1,234 jobs');
  });

  it('shows a dash for unknown lengths', () => {
    expect(formatQueueLength(null)).toBe('?');
    expect(formatQueueLength(undefined)).toBe('?');
    expect(formatQueueLength(-1)).toBe('?');
    expect(formatQueueLength(NaN)).toBe('?');
  });
});

describe('formatAge', () => {
  it('formats seconds, minutes, hours and days', () => {
    expect(formatAge(0.4)).toBe('just now');
    expect(formatAge(3)).toBe('3 s ago');
    expect(formatAge(59.9)).toBe('59 s ago');
    expect(formatAge(60)).toBe('1 min ago');
    expect(formatAge(3599)).toBe('59 min ago');
    expect(formatAge(7200)).toBe('2 h ago');
    expect(formatAge(3 * 86400 + 5)).toBe('3 d ago');
  });

  it('treats clock skew as just now and unknown as a dash', () => {
    expect(formatAge(-2)).toBe('just now');
    expect(formatAge(undefined)).toBe('—');
    expect(formatAge(Infinity)).toBe('—');
  });
});
