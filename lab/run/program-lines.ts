/** The JSON lines the programs inside the hosts print (images/server, images/client). */

export interface ClientLine {
  type: 'start' | 'progress' | 'filled' | 'ping' | 'summary' | 'warning' | 'error';
  t_ms?: number;
  established?: number;
  inflight?: number;
  failed?: number;
  dropped?: number;
  pongs?: number;
  errors?: Record<string, number>;
  bind_errors?: Record<string, number>;
  message?: string;
  reason?: string;
}

export interface ServerLine {
  type: 'ready' | 'progress' | 'summary' | 'error';
  t_ms?: number;
  accepted?: number;
  open?: number;
  pongs?: number;
  errors?: Record<string, number>;
  message?: string;
  op?: string;
  errno?: string;
}

export function parseLine<T extends { type: string }>(line: string): T | undefined {
  try {
    const value = JSON.parse(line) as T;
    return typeof value === 'object' && value !== null && typeof value.type === 'string' ? value : undefined;
  } catch {
    return undefined;
  }
}
