// Keys whose values never reach a log: cardholder data, secrets and QR payloads. pino's redaction
// works on paths, so each key is listed at the top level and up to three levels deep.
export const SENSITIVE_KEYS = [
  // cardholder identity
  'name', 'holderName', 'cardholderName', 'nameEn', 'idNumber', 'idNo', 'idCard', 'cardNumber',
  'documentNumber', 'healthRecordNumber', 'insuranceNumber', 'birthDate', 'address', 'address1', 'address2',
  // contact
  'phone', 'phone1', 'phone2', 'mobile', 'contactName', 'contactPhone', 'contacts',
  // photo and raw card data
  'photo', 'photoBase64', 'items', 'values', 'data', 'apduData',
  // secrets
  'pin', 'samPin', 'newPin', 'oldPin', 'key', 'keys', 'sessionKey', 'password', 'token', 'secret',
  // QR payloads
  'qr', 'qrText', 'text', 'payload',
];

const HEADER_PATHS = ['req.headers.authorization', 'req.headers.cookie', 'headers.authorization', 'headers.cookie', 'authorization'];

export function redactPaths(keys: readonly string[] = SENSITIVE_KEYS): string[] {
  const paths = [...HEADER_PATHS];
  for (const k of keys) paths.push(k, `*.${k}`, `*.*.${k}`, `*.*.*.${k}`);
  return paths;
}

export const REDACTED = '[REDACTED]';
