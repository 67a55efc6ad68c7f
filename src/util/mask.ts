/** A secret shown on screen (a token in a URL): enough to tell two apart, not enough to use. */
export const maskSecret = (secret: string): string => `${secret.slice(0, 4)}********`;
