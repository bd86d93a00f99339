/**
 * zod for the code the pages share. The pages run under a content-security policy without
 * 'unsafe-eval' (server/inputs/http-hardening.ts). zod's faster parser is compiled with
 * `new Function`; in a page it would only probe for eval, be refused and report a violation,
 * so pages use the plain parser from the start. The server keeps the compiled one (the fuzz
 * tests lean on it). Every common/ module that builds schemas imports z from here, so the
 * setting is made before any of them is built, whatever order a page imports them in.
 */
import { z } from 'zod';

if (typeof document !== 'undefined') z.config({ jitless: true });

export { z };
