export { FaultInjector, checkFault, FAULT_NAMES, type FaultSpec, type FaultName, type FaultTarget, type LinkDirection } from './fault-injector.ts';
export { LinkNoise, type LinkNoiseSettings } from './link-noise.ts';
export { FaultRandom } from './fault-random.ts';
export { noisyLink } from './noisy-link.ts';
