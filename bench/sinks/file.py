"""file.py: the File sink case of bench/sink_throughput.py.

The watcher's File sink (maxInFlight 64: a batch of up to 64 lines per
write and fdatasync) against bare-file.c appending the same lines in
batches of the same size, each batch fdatasync'ed before the next: the
same confirmation level (every message durable before it counts).
"""

import os

WINDOW = 64


class FileCase:
    name = "File"
    bare_source = "bare-file.c"
    pkgs = []           # pkg-config packages the bare client links

    def start(self, work):
        """Nothing to start: the file system is the broker."""

    def stop(self):
        pass

    def sink(self, round_dir):
        """The sink block (without identifier) for the watcher's config."""
        return {"type": "File", "maxInFlight": WINDOW,
                "spec": {"path": os.path.join(round_dir, "out.jsonl")}}

    def bare_argv(self, binary, messages, round_dir):
        return [binary, messages, os.path.join(round_dir, "bare.jsonl"),
                str(WINDOW)]

    def delivered(self, round_dir, bare=False):
        """Messages at the destination after a round."""
        name = "bare.jsonl" if bare else "out.jsonl"
        with open(os.path.join(round_dir, name), "rb") as f:
            return sum(1 for _ in f)


CASE = FileCase()
