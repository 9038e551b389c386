/**
 * Turns on the machine for the matrix's runs: most share it, a timed run (connect() timed as a range fills)
 * has it to itself. Under emulation a VM's timings stretch whenever another VM takes the cores it was
 * using, so a ratio measured while a neighbour booted or flooded would show a step that is not the kernel's.
 * First come, first served: a timed run waits for the shared ones before it, and those after it wait for it.
 */
export class Turns {
  private sharing = 0;
  private alone = false;
  private readonly queue: Array<{ exclusive: boolean; go: () => void }> = [];

  /** Resolves when this run may start; `exclusive`: nothing else runs until it calls leave(). */
  async enter(exclusive: boolean): Promise<void> {
    if (!this.queue.length && this.free(exclusive)) return this.take(exclusive);
    await new Promise<void>((go) => this.queue.push({ exclusive, go }));
  }

  leave(exclusive: boolean): void {
    if (exclusive) this.alone = false;
    else this.sharing--;
    while (this.queue.length && this.free(this.queue[0]!.exclusive)) {
      const next = this.queue.shift()!;
      this.take(next.exclusive);
      next.go();
    }
  }

  private free(exclusive: boolean): boolean {
    return exclusive ? !this.alone && this.sharing === 0 : !this.alone;
  }

  private take(exclusive: boolean): void {
    if (exclusive) this.alone = true;
    else this.sharing++;
  }
}
