"""Folds `perf script -F comm,tid,ip,sym --no-inline` output (samples recorded with
`perf record -g --call-graph dwarf`) into shares of the samples: first by part of the run
(output write, zstd encode and decode, input read, spill, copies, zero-fill, kernel page
faults), then by leaf symbol <- nearest chunkwise/zarrs caller. How profile-base.txt and
profile-new.txt were made. `[unknown]` leaves are zstd's Huffman decoding loop (hand-written
assembly without unwind information), counted as decode.

usage: python3 fold_profile.py PERF_SCRIPT_OUTPUT
"""
import collections
import re
import sys

samples = []
cur = []
for line in open(sys.argv[1]):
    line = line.rstrip("\n")
    if not line.strip():
        if cur:
            samples.append(cur)
            cur = []
        continue
    cur.append(line)
if cur:
    samples.append(cur)
n = len(samples)
print("samples", n)
c = collections.Counter()
kernel_mm=('clear_page','exc_page_fault','memcg','unmap_page','_raw_spin','__list_del','free_','folio_','alloc_pages','get_page_from','rmqueue','zap_','__mod_','lru')
for s in samples:
    fr=[re.sub(r'^\s*[0-9a-f]+\s+','',f).strip() for f in s[1:]]
    if not fr: continue
    leaf=fr[0]; allf=' '.join(fr)
    if 'write_atomically' in allf: k='output write'
    elif 'ZstdCodec' in allf and '::en' in allf: k='zstd encode'
    elif 'ZstdCodec' in allf and '::de' in allf or leaf=='[unknown]': k='zstd decode'
    elif 'FilesystemStore' in allf: k='input read'
    elif 'SpillDir' in allf or 'HeldStore::release' in allf: k='spill'
    elif any(x in leaf for x in kernel_mm) : k='kernel page faults/zeroing'
    elif 'memset' in leaf or 'Buffer::zeros' in allf.split(' ')[0]: k='zero-fill'
    elif 'copy_buffer_region' in allf or 'extract_region' in allf or 'append_runs' in allf or 'try_fold' in leaf or 'memmove' in leaf: k='copies'
    elif 'Buffer::zeros' in allf: k='zero-fill'
    else: k='other'
    c[k]+=1
for k,v in c.most_common(): print(f"{100*v/n:5.1f}% {k}")

print()
pair = collections.Counter()
callers = ["chunkwise_", "zarrs", "SpillDir", "write_atomically", "HeldStore", "copy_buffer_region",
           "from_le_bytes", "to_le_bytes", "Buffer::zeros", "from_array_bytes"]
for s in samples:
    frames = [re.sub(r"^\s*[0-9a-f]+\s+", "", f).strip() for f in s[1:]]
    if not frames:
        continue
    caller = next((f[:110] for f in frames[1:] if any(k in f for k in callers)), "?")
    pair[(frames[0][:60], caller)] += 1
for (leaf, caller), count in pair.most_common(45):
    print(f"{100 * count / n:5.1f}% {leaf:45s} <- {caller}")
