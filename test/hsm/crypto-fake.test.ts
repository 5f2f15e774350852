/** The cryptographic calls of the Hsm contract over the node:crypto fake. */
import test from 'ava';
import { FakeHsm } from '../../src/hsm/fake-hsm.js';
import { cryptoContract } from './crypto-contract.js';

cryptoContract(test, { open: () => Promise.resolve(new FakeHsm()), token: false });
