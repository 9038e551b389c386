/**
 * The sizes of the slab caches the memory theory names, read inside a host: from SLUB's /sys/kernel/slab/<cache>,
 * which has every cache by its own name, merged or not (/proc/slabinfo lists a merged cache only under the
 * cache it was merged into: 6.12's eventpoll_epi is not there). object_size is the struct as compiled
 * (sizeof); slab_size is what each object takes in its slab: the struct aligned, and where the cache keeps its
 * free pointer outside the object (a cache freed by RCU, TCP's), that pointer too, aligned again.
 */
import { NAMED_SLAB_CACHES } from '../scenario/theory/memory.ts';

export interface SlabCacheSize {
  /** sizeof the object (object_size). */
  objectSize: number;
  /** Bytes each object takes in its slab (slab_size): what one more object costs. */
  slabSize: number;
  /** The cache it was merged into (SLUB's ":A-0000128"), where it shares one. */
  mergedInto?: string;
}

export type SlabCacheSizes = Record<string, SlabCacheSize>;

const SYSFS = '/sys/kernel/slab';

/** One line per cache that exists: name, object_size, slab_size, and where it is a link, what it links to. */
export const SLAB_SIZES_SCRIPT = [
  `for c in ${NAMED_SLAB_CACHES.join(' ')}; do d=${SYSFS}/$c;`,
  'if [ -r $d/slab_size ]; then echo "$c $(cat $d/object_size) $(cat $d/slab_size) $(readlink $d 2>/dev/null)"; fi;',
  'done; true',
].join(' ');

export function parseSlabSizes(text: string): SlabCacheSizes {
  const sizes: SlabCacheSizes = {};
  for (const line of text.split('\n')) {
    const [name, objectSize, slabSize, link] = line.trim().split(/\s+/);
    if (!name || !(Number(objectSize) > 0) || !(Number(slabSize) > 0)) continue;
    const mergedInto = link ? link.split('/').pop() : undefined;
    sizes[name] = { objectSize: Number(objectSize), slabSize: Number(slabSize), ...(mergedInto && { mergedInto }) };
  }
  return sizes;
}

/** Bytes per object per cache, as the theory reads them: slab sizes where sysfs has them, slabinfo's objsize elsewhere. */
export function bytesPerObject(slabinfoSizes: Readonly<Record<string, number>>, sizes: SlabCacheSizes): Record<string, number> {
  return { ...slabinfoSizes, ...Object.fromEntries(Object.entries(sizes).map(([cache, s]) => [cache, s.slabSize])) };
}
