/**
 * The proxy's configuration files (lab/proxy/) as the lab writes them from a case's settings, the log lines
 * it counts, and the plan's proxy (lab/plan/proxy.ts). That nginx and HAProxy accept these files is checked
 * against the real programs in test/integration/proxy.test.ts.
 */
import { expect } from 'chai';
import { proxyConfigProblem, type ProxyConfig } from '../../lab/proxy/config.ts';
import { haproxyConfig } from '../../lab/proxy/haproxy.ts';
import { parseUpstreamErrors, upstreamErrorsCommand } from '../../lab/proxy/log.ts';
import { nginxConfig } from '../../lab/proxy/nginx.ts';
import { labProxyArgv, proxyConfig } from '../../lab/plan/proxy.ts';
import { baseProxyConfig } from '../fixtures/proxy-config.ts';

const base = baseProxyConfig;

const lines = (text: string) => text.split('\n').map((l) => l.trim());

describe("nginx's configuration (lab/proxy/nginx.ts)", () => {
  it('proxies to every backend, never marking one down nor trying the next, its limits and timeouts as set', () => {
    const conf = lines(nginxConfig({ ...base, backends: [base.backends[0]!, { ip: '198.18.0.2', port: 8081 }] }));
    expect(conf).to.include.members([
      'worker_processes 1;',
      'worker_rlimit_nofile 20000;',
      'worker_connections 19936;',
      'server 198.18.0.2:8080 max_fails=0;',
      'server 198.18.0.2:8081 max_fails=0;',
      'proxy_pass http://backends;',
      'proxy_next_upstream off;',
      'proxy_connect_timeout 5000ms;',
      'proxy_read_timeout 600000ms;',
      'listen 80 backlog=4096;',
      'error_log /var/log/lab-proxy/error.log warn;',
    ]);
    // Without keepalive: HTTP/1.0 upstream, nginx closes each connection (its TIME_WAIT).
    expect(conf.some((l) => l.startsWith('keepalive ') || l.startsWith('proxy_http_version'))).to.equal(false);
    expect(conf.some((l) => l.startsWith('proxy_bind'))).to.equal(false);
  });

  it('keeps upstream connections alive with HTTP/1.1 and the Connection header cleared', () => {
    const conf = lines(nginxConfig({ ...base, keepalive: 16 }));
    expect(conf).to.include.members(['keepalive 16;', 'keepalive_requests 1000000;', 'proxy_http_version 1.1;', 'proxy_set_header Connection "";']);
  });

  it('binds upstream connections to one source, or spreads them over several with split_clients', () => {
    expect(lines(nginxConfig({ ...base, sources: ['198.18.0.10'] }))).to.include('proxy_bind 198.18.0.10;');
    const three = lines(nginxConfig({ ...base, sources: ['198.18.0.10', '198.18.0.254', '198.18.0.253'] }));
    expect(three).to.include.members([
      'split_clients "$request_id" $lab_source {',
      '33.33% 198.18.0.10;',
      '33.33% 198.18.0.254;',
      '* 198.18.0.253;',
      'proxy_bind $lab_source;',
    ]);
  });

  it('gives each of several workers its own listener (reuseport)', () => {
    expect(lines(nginxConfig({ ...base, workers: 4, ports: [80, 81] }))).to.include.members([
      'listen 80 backlog=4096 reuseport;',
      'listen 81 backlog=4096 reuseport;',
    ]);
  });
});

describe("HAProxy's configuration (lab/proxy/haproxy.ts)", () => {
  it('answers one failed connect with one 503 (no retries), closing each server connection without keepalive', () => {
    const conf = lines(haproxyConfig({ ...base, kind: 'haproxy', connections: 9968 }));
    expect(conf).to.include.members([
      'nbthread 1',
      'maxconn 9968',
      'ulimit-n 20000',
      'retries 0',
      'timeout connect 5000ms',
      'bind :80 backlog 4096',
      'balance roundrobin',
      'option http-server-close',
      'http-reuse never',
      'server b0 198.18.0.2:8080',
    ]);
    expect(conf.some((l) => l.startsWith('log '))).to.equal(false);
  });

  it('writes a server line per backend and source address, and pools idle connections with keepalive', () => {
    const conf = lines(
      haproxyConfig({
        ...base,
        kind: 'haproxy',
        keepalive: 8,
        sources: ['198.18.0.10', '198.18.0.254'],
        backends: [base.backends[0]!, { ip: '198.18.0.3', port: 8080 }],
      }),
    );
    expect(conf).to.include.members([
      'http-reuse always',
      'server b0s0 198.18.0.2:8080 source 198.18.0.10 pool-max-conn 8',
      'server b0s1 198.18.0.2:8080 source 198.18.0.254 pool-max-conn 8',
      'server b1s0 198.18.0.3:8080 source 198.18.0.10 pool-max-conn 8',
      'server b1s1 198.18.0.3:8080 source 198.18.0.254 pool-max-conn 8',
    ]);
  });
});

describe('a proxy configuration from the case (lab/plan/proxy.ts)', () => {
  it('resolves the settings: backends from endpoints, sources only where there are several, connections within the open-file limit', () => {
    const nginx = proxyConfig({ kind: 'proxy', software: 'nginx' }, ['198.18.0.10'], ['198.18.0.2:8080', '198.18.0.2:8081'], 20000);
    expect(nginx).to.deep.include({ kind: 'nginx', ports: [80], sources: [], keepalive: 0, workers: 1, connections: 19936, nofile: 20000 });
    expect(nginx.backends).to.deep.equal([
      { ip: '198.18.0.2', port: 8080 },
      { ip: '198.18.0.2', port: 8081 },
    ]);
    const haproxy = proxyConfig(
      { kind: 'proxy', software: 'haproxy', settings: { sources: 2, keepalive: 4 } },
      ['198.18.0.10', '198.18.0.254'],
      ['198.18.0.2:8080'],
      20000,
    );
    expect(haproxy).to.deep.include({ sources: ['198.18.0.10', '198.18.0.254'], keepalive: 4, connections: 9968 });
  });

  it("hands the file to lab-proxy as one base64 argument, and 'check' only checks it", () => {
    const argv = labProxyArgv(base, true);
    expect(argv[0]).to.equal('lab-proxy');
    expect(argv[1]).to.equal('nginx');
    expect(Buffer.from(argv[2]!, 'base64').toString()).to.equal(nginxConfig(base));
    expect(argv[3]).to.equal('check');
  });

  it('names the field a configuration cannot have', () => {
    expect(proxyConfigProblem(base)).to.equal(undefined);
    expect(proxyConfigProblem({ ...base, backends: [] })).to.match(/^backends:/);
    expect(proxyConfigProblem({ ...base, workers: 0 })).to.match(/^workers:/);
    expect(proxyConfigProblem({ ...base, timeouts: { ...base.timeouts, connectMs: 0 } })).to.match(/^timeouts\.connectMs:/);
  });
});

describe("the proxy's error log (lab/proxy/log.ts)", () => {
  it("reads nginx's failed upstream connects per errno, from sed's and uniq's lines", () => {
    expect(upstreamErrorsCommand('nginx').join(' ')).to.include('/var/log/lab-proxy/error.log');
    expect(parseUpstreamErrors('nginx', '     50 99\n      3 111\n      1 7\n')).to.deep.equal({ EADDRNOTAVAIL: 50, ECONNREFUSED: 3, E7: 1 });
  });

  it("reads HAProxy's reasons as the errnos they stand for", () => {
    expect(parseUpstreamErrors('haproxy', '    150 no free ports\n      2 local address already in use\n')).to.deep.equal({
      EADDRNOTAVAIL: 150,
      EADDRINUSE: 2,
    });
    expect(parseUpstreamErrors('haproxy', '')).to.deep.equal({});
  });
});
