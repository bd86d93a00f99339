import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration and browser tests start real servers and Chromium: give them room,
    // and keep to two workers on the 2-core gallery PC.
    testTimeout: 60_000,
    hookTimeout: 120_000,
    maxWorkers: 2,
    // Browser and timing-bound tests share 2 cores with Chromium's software renderer; one retry
    // absorbs a scheduling hiccup, while a real fault fails both runs.
    retry: 1,
    reporters: ['default'],
  },
});
