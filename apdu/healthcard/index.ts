// Public API of the health-card layer (shared by the daemon, the simulator and tests).
export * from './file-map.ts';
export * from './data-items.ts';
export * from './codecs.ts';
export * from './gb18030-text.ts';
export * from './validation.ts';
export * from './health-card-errors.ts';
export * from './card-session.ts';
export * from './sam-authorizer.ts';
export * from './health-card-reader.ts';
export * from './health-card-writer.ts';
