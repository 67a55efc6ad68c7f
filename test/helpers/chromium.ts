import { chromium, type Browser } from 'playwright-core';

/**
 * Debian's Chromium, headless, as the browser tests drive it. why these flags: no sandbox as root;
 * without the background-networking ones Chromium keeps trying hosts this closed network refuses.
 */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}
