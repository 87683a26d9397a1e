// Configuration errors name the exact place (file, key path, flag or variable) and what is wrong, so
// a desk technician can fix the file without reading code.
import { defineErrorCodes } from '../../common/error-catalog.ts';
import { YikaError } from '../../common/yika-error.ts';

export const CONFIG_ERRORS = defineErrorCodes('daemon/config', {
  CONFIG_INVALID: { kind: 'bad_request', zh: '配置项取值无效，请按提示修改配置文件。', description: 'A configuration value is invalid; the message names the key path and what is expected.' },
  CONFIG_FILE_UNREADABLE: { kind: 'bad_request', zh: '配置文件无法读取或解析。', description: 'The configuration file cannot be read or parsed (JSON or YAML); the message gives the line when known.' },
});

export class ConfigError extends YikaError {
  constructor(
    readonly source: string,
    readonly path: string,
    readonly problem: string,
    code: keyof typeof CONFIG_ERRORS = 'CONFIG_INVALID',
  ) {
    super(code, `${source}: ${path ? `${path}: ` : ''}${problem}`, { source, path, problem });
  }
}
