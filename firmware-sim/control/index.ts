export { SimController } from './sim-controller.ts';
export { parseCommandLine, COMMAND_HELP, CARD_KINDS, type SimCommand, type CardSpec, type CardKind } from './sim-commands.ts';
export { parseScenario, loadScenario, runScenario, type Scenario } from './scenario.ts';
export { startControlServer, type ControlServer } from './control-server.ts';
