import { describe, expect, it } from 'vitest';
import { YikaError, isYikaError } from '../../common/yika-error.ts';

describe('YikaError', () => {
  it('keeps its code, details and subclass name', () => {
    class CardRemovedError extends YikaError {}
    const e = new CardRemovedError('CARD_REMOVED', 'The card was removed', { slot: 1 });
    expect(isYikaError(e)).toBe(true);
    expect(e.name).toBe('CardRemovedError');
    expect(e.toJSON()).toEqual({ code: 'CARD_REMOVED', message: 'The card was removed', details: { slot: 1 } });
    expect(isYikaError(new Error('x'))).toBe(false);
  });
});
