// Minimal types for the sm-crypto package (pure JS, used only as an independent cross-check in tests and benches).
declare module 'sm-crypto' {
  interface Sm2SignOptions {
    hash?: boolean;
    der?: boolean;
    publicKey?: string;
    userId?: string;
    pointPool?: unknown[];
  }
  const smCrypto: {
    sm2: {
      generateKeyPairHex(): { publicKey: string; privateKey: string };
      getPublicKeyFromPrivateKey(privateKey: string): string;
      doSignature(msg: string | number[] | Uint8Array, privateKey: string, options?: Sm2SignOptions): string;
      doVerifySignature(msg: string | number[] | Uint8Array, signHex: string, publicKey: string, options?: Sm2SignOptions): boolean;
      compressPublicKeyHex(publicKey: string): string;
    };
    sm3(input: string | number[] | Uint8Array, options?: { key?: string | number[]; mode?: string }): string;
    sm4: {
      encrypt(input: string | number[] | Uint8Array, key: string | number[] | Uint8Array, options?: { mode?: 'cbc' | 'ecb'; iv?: string | number[] | Uint8Array; padding?: 'pkcs#7' | 'pkcs#5' | 'none'; output?: 'string' | 'array' }): string | number[];
      decrypt(input: string | number[] | Uint8Array, key: string | number[] | Uint8Array, options?: { mode?: 'cbc' | 'ecb'; iv?: string | number[] | Uint8Array; padding?: 'pkcs#7' | 'pkcs#5' | 'none'; output?: 'string' | 'array' }): string | number[];
    };
  };
  export default smCrypto;
}
