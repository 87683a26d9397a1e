// Public API of the ISO/IEC 7816-4 layer.
export * from './card-channel.ts';
export * from './apdu-errors.ts';
export * from './command-apdu.ts';
export * from './response-apdu.ts';
export * from './atr.ts';
export * from './status-words.ts';
export * from './tlv.ts';
export * from './batch.ts';
export * from './iso-transmit.ts';
export * from './trace.ts';
export * from './replay-channel.ts';
