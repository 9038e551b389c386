import type Docker from 'dockerode';
import { RuntimeFailure } from '../../errors.ts';
import { SubnetTaken, type LabNetwork } from '../runtime.ts';
import { runLabels } from './labels.ts';

/** The IPv4 subnets the engine's networks use (a run's IPv6 subnet follows from its IPv4 one). */
export async function subnetsInUse(docker: Docker): Promise<string[]> {
  const networks = await docker.listNetworks();
  return networks.flatMap((n) => (n.IPAM?.Config ?? []).map((c) => c.Subnet).filter((s): s is string => !!s && !s.includes(':')));
}

/**
 * A fresh internal bridge (no gateway to the outside, so no egress) in exactly the subnet chosen, and with
 * IPv6 in the run's own /64 where one is given (Docker 20.10 takes it with no daemon setting). Two runs
 * racing for one subnet: the engine refuses the second, which hears SubnetTaken and chooses again.
 */
export async function createLabNetwork(docker: Docker, runId: string, subnet: string, subnet6?: string): Promise<LabNetwork> {
  const name = `lab-${runId}`;
  try {
    await docker.createNetwork({
      Name: name,
      Driver: 'bridge',
      Internal: true,
      CheckDuplicate: true,
      ...(subnet6 && { EnableIPv6: true }),
      IPAM: { Driver: 'default', Config: [{ Subnet: subnet }, ...(subnet6 ? [{ Subnet: subnet6 }] : [])] },
      Labels: runLabels(runId),
      Options: { 'com.docker.network.bridge.enable_ip_masquerade': 'false' },
    });
    return { name, subnet, ...(subnet6 && { subnet6 }) };
  } catch (error) {
    const message = (error as Error).message;
    if (/overlap|Pool/i.test(message)) throw new SubnetTaken(subnet);
    throw new RuntimeFailure(`cannot create network ${name} (${[subnet, subnet6].filter(Boolean).join(', ')}): ${message}`);
  }
}
