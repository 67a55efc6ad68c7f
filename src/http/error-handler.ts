import type { NextFunction, Request, Response } from 'express';
import type { Logger } from '../log/logger.js';
import { writeError } from './write-reply.js';

/** The express side of the one error reply (ops routes and the dashboard); see {@link writeError}. */
export function createErrorHandler(logger: Logger) {
  return function handleError(
    err: unknown,
    req: Request,
    res: Response,
    _next: NextFunction,
  ): void {
    writeError(err, req, res, { path: req.path }, logger);
  };
}
