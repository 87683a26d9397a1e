export { SimController, type ControlTarget, type CommandResult } from './sim-controller.ts';
export { parseCommandLine, checkCommand, checkCardSpec, normaliseStep, COMMAND_HELP, CARD_KINDS, type SimCommand, type CardSpec, type CardKind } from './sim-commands.ts';
export { parseScenario, loadScenario, runScenario, type Scenario } from './scenario.ts';
export { startControlServer, type ControlServer } from './control-server.ts';
export { attachLineInput } from './line-input.ts';
export { SimError, SimErrorCode } from './sim-errors.ts';
