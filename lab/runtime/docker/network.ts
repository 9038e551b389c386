import type Docker from 'dockerode';
import { RuntimeFailure } from '../../errors.ts';
import { SubnetTaken, type LabNetwork } from '../runtime.ts';
import { runLabels } from './labels.ts';

export async function subnetsInUse(docker: Docker): Promise<string[]> {
  const networks = await docker.listNetworks();
  return networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s));
}

/**
 * A fresh internal bridge (no gateway to the outside, so no egress) in exactly the subnet chosen. Two runs
 * racing for one subnet: the engine refuses the second, which hears SubnetTaken and chooses again.
 */
export async function createLabNetwork(docker: Docker, runId: string, subnet: string): Promise<LabNetwork> {
  const name = `lab-${runId}`;
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
    if (/overlap|Pool/i.test(message)) throw new SubnetTaken(subnet);
    throw new RuntimeFailure(`cannot create network ${name} (${subnet}): ${message}`);
  }
}
