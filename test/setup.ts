import { afterAll } from 'vitest';
import { stopLeftoverDaemons } from './helpers/daemon.js';

// After each test file's own afterAll: whatever a failed test did not stop is stopped here.
afterAll(stopLeftoverDaemons);
