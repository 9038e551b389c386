import type Docker from 'dockerode';
import { InputError, RuntimeFailure } from '../../errors.ts';
import { benchmarkingSubnets, overlaps } from '../../plan/subnet.ts';
import type { LabNetwork } from '../runtime.ts';
import { runLabels } from './labels.ts';

export async function subnetsInUse(docker: Docker): Promise<string[]> {
  const networks = await docker.listNetworks();
  return networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s));
}

/**
 * A fresh internal bridge (no gateway to the outside, so no egress) in a subnet no other network uses.
 * Two runs racing for one subnet: the engine refuses the second, which moves on to the next.
 */
export async function createLabNetwork(docker: Docker, runId: string, wanted: string | undefined, scenarioFile: string): Promise<LabNetwork> {
  const name = `lab-${runId}`;
  const used = await subnetsInUse(docker);
  if (wanted) {
    const clash = used.find((s) => overlaps(s, wanted));
    if (clash) throw new InputError(scenarioFile, 'subnet', `${wanted} overlaps the engine's network ${clash}`);
  }
  const candidates = wanted ? [wanted] : [...benchmarkingSubnets()].filter((s) => !used.some((u) => overlaps(u, s)));
  for (const subnet of candidates) {
    try {
      await docker.createNetwork({
        Name: name,
        Driver: 'bridge',
        Internal: true,
        CheckDuplicate: true,
        IPAM: { Driver: 'default', Config: [{ Subnet: subnet }] },
        Labels: runLabels(runId),
        Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
      });
      return { name, subnet };
    } catch (error) {
      const message = (error as Error).message;
      if (!wanted && /overlap|Pool/i.test(message)) continue;
      throw new RuntimeFailure(`cannot create network ${name} (${subnet}): ${message}`);
    }
  }
  throw new RuntimeFailure('no free /24 left in 198.18.0.0/15 for a lab network');
}
