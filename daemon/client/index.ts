// Entry point for HIS integrations: `import { YikaClient } from 'yika/client'` (package.json exports).
export { YikaApiError, YikaClient } from './yika-client.ts';
export type { EventsOptions, EventSubscription, WebSocketClass, YikaClientOptions } from './yika-client.ts';
export type * from './api-types.ts';
