export * from './timing-model.ts';
export { SimClock } from './sim-clock.ts';
