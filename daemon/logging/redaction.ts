// Keys whose values never reach a log: cardholder data, secrets and QR payloads. Matched by key name
// at any depth while the logger walks a log object (scrub.ts), which is much cheaper than pino's
// wildcard path redaction (that one also ran on every request's child-logger bindings).
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
  // HTTP
  'authorization', 'cookie', 'set-cookie',
];

export const SENSITIVE_KEY_SET: ReadonlySet<string> = new Set(SENSITIVE_KEYS);

export const REDACTED = '[REDACTED]';
