/**
 * The lab's C programs: the name each runs as (argv[0], the Name in /proc/<pid>/status, what `pkill -x`
 * matches), the source it is built from, and the image it ships in. The Dockerfiles and Makefiles under
 * images/ build the images; lab/runtime/programs.ts builds the same sources with this machine's gcc.
 */

export type ProgramImage = 'server' | 'client';

export interface LabProgram {
  readonly name: string;
  /** From the project's root. */
  readonly source: string;
  /** The lab's image it is built into; none for the VM's agent, which only runs inside a VM. */
  readonly image?: ProgramImage;
}

/** Listens, accepts and answers Ping with Pong on every port, in SO_REUSEPORT workers. */
export const LABSERVER = { name: 'labserver', source: 'images/server/labserver.c', image: 'server' } as const satisfies LabProgram;
/** The flood: opens and holds connections, in several processes when one's open-file limit is too small. */
export const LABCLIENT = { name: 'labclient', source: 'images/client/labclient.c', image: 'client' } as const satisfies LabProgram;
/** Short-lived connections at a rate (TIME_WAIT experiments). */
export const LABCHURN = { name: 'labchurn', source: 'images/client/labchurn.c', image: 'client' } as const satisfies LabProgram;
/** A lab VM's only service: starts the host's processes and carries their output over one serial line. */
export const LABAGENT = { name: 'labagent', source: 'images/agent/labagent.c' } as const satisfies LabProgram;

/** Every program, in the order they are built and hashed. */
export const PROGRAMS: readonly LabProgram[] = [LABSERVER, LABCLIENT, LABCHURN, LABAGENT];

/** The headers under images/common the programs include. */
export const PROGRAM_HEADERS: readonly string[] = [
  'images/common/addr.h',
  'images/common/errnames.h',
  'images/common/histogram.h',
  'images/common/http.h',
  'images/common/workers.h',
];

/** Whether `file` is the name of a program that one of the lab's images builds (a binary built by hand beside its source). */
export function isImageProgram(file: string): boolean {
  return PROGRAMS.some((p) => p.image !== undefined && p.name === file);
}
