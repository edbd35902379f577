// Loads @peculiar/x509 with what it needs on Node: the Reflect metadata polyfill its DI container
// requires (imported first) and Node's WebCrypto as its crypto provider.
import 'reflect-metadata';
import { webcrypto } from 'node:crypto';
import * as x509 from '@peculiar/x509';

// Node's WebCrypto is the standard Crypto interface; the library's DOM typing of it is not visible without lib.dom.
x509.cryptoProvider.set(webcrypto as unknown as Parameters<typeof x509.cryptoProvider.set>[1]);

export { x509, webcrypto };
