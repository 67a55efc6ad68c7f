import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

/** One request the fake Study API received. */
export interface SeenRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

/** A stand-in for the remote Sensor Logger Study API on 127.0.0.1, port 0: download and respond endpoints. */
export interface FakeSensorLogger {
  url: string;
  requests: SeenRequest[];
  /** Recordings by `<studyId>/<uploadId>`, served with the given Content-Type. */
  files: Map<string, { data: Buffer; contentType: string; fileName?: string }>;
  /** Statuses answered to the next downloads, one each, before serving the file. */
  failDownloads: number[];
  /** Status of the respond endpoint by method (default 200). */
  respondStatus: Record<string, number>;
  close(): Promise<void>;
}

export async function startFakeSensorLogger(secretCode: string): Promise<FakeSensorLogger> {
  const fake: Omit<FakeSensorLogger, 'url' | 'close'> = {
    requests: [],
    files: new Map(),
    failDownloads: [],
    respondStatus: {},
  };
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://fake');
      const seen: SeenRequest = {
        method: req.method ?? '',
        path: u.pathname,
        query: Object.fromEntries(u.searchParams),
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      fake.requests.push(seen);
      const answer = (
        status: number,
        body: string | Buffer = '',
        headers: Record<string, string> = {},
      ) => {
        res.writeHead(status, headers);
        res.end(body);
      };
      if (req.headers.authorization !== secretCode) return answer(401, 'Unauthorized');
      if (u.pathname === '/api/study/file/v1' && req.method === 'GET') {
        const status = fake.failDownloads.shift();
        if (status !== undefined) return answer(status, 'try later');
        const file = fake.files.get(`${seen.query['studyId']}/${seen.query['uploadId']}`);
        if (!file) return answer(404, 'no such recording');
        return answer(200, file.data, {
          'content-type': file.contentType,
          ...(file.fileName && {
            'content-disposition': `attachment; filename="${file.fileName}"`,
          }),
        });
      }
      if (u.pathname === '/api/study/webhook/v1')
        return answer(fake.respondStatus[seen.method] ?? 200, '{"success":true}', {
          'content-type': 'application/json',
        });
      return answer(404, 'not found');
    });
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  return Object.assign(fake, {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  });
}
