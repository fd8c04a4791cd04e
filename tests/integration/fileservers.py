"""fileservers.py: a real sshd and a real smbd on loopback for the tests.

Each starts on a free 127.0.0.1 port in a temporary directory with its own
configuration, keys and users, and nothing of the machine's:

  Sshd   OpenSSH's sshd (Debian openssh-server) as the current user, with a
         host key and a user key made here by ssh-keygen, its own
         AuthorizedKeysFile, the internal SFTP server, no chroot; given a
         password, it also accepts that password for the user: sshd runs
         in a mount namespace of its own (unshare) where /etc/shadow is a
         copy holding the password's hash, so the machine's accounts are
         never touched
  Smbd   Samba's smbd (Debian samba) with its own smb.conf (private, lock,
         state, cache and pid directories, `smb ports`), one share, and the
         current user added with smbpasswd into its own tdbsam passdb

Both need root for what they do (sshd's privilege separation, smbd's
logins); CI runs the tests as root.
"""

import getpass
import os
import subprocess

from harness import free_port, stop_process, wait_listening

SSHD = "/usr/sbin/sshd"
SMBD = "/usr/sbin/smbd"


def keygen(path, kind="ed25519", passphrase=""):
    subprocess.run(["ssh-keygen", "-q", "-t", kind, "-N", passphrase, "-C",
                    "aw", "-f", path], check=True, stdin=subprocess.DEVNULL)
    with open(path + ".pub") as f:
        return f.read().strip()


class Sshd:
    """sshd on a free port; data in self.root."""

    PASSPHRASE = "locked-key-passphrase-77"

    def __init__(self, workdir, password=None):
        self.dir = workdir.sub("sshd")
        self.root = workdir.sub("sshd/data")
        self.port = free_port()
        self.user = getpass.getuser()
        self.password = password
        self.process = None

    def shadow(self):
        """A copy of /etc/shadow where the user's hash is the password's."""
        hashed = subprocess.run(["openssl", "passwd", "-6", "-stdin"],
                                input=self.password, capture_output=True,
                                text=True, check=True).stdout.strip()
        path = os.path.join(self.dir, "shadow")
        with open("/etc/shadow") as f:
            lines = f.read().splitlines()
        out = []
        for line in lines:
            fields = line.split(":")
            if fields[0] == self.user:
                fields[1] = hashed
            out.append(":".join(fields))
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as f:
            f.write("\n".join(out) + "\n")
        return path

    def start(self):
        d = self.dir
        self.host_pub = keygen(os.path.join(d, "host_key"))
        self.user_key = os.path.join(d, "user_key")
        user_pub = keygen(self.user_key)
        self.other_key = os.path.join(d, "other_key")
        self.other_pub = keygen(self.other_key)
        self.locked_key = os.path.join(d, "locked_key")
        locked_pub = keygen(self.locked_key, passphrase=self.PASSPHRASE)
        with open(os.path.join(d, "authorized_keys"), "w") as f:
            f.write(user_pub + "\n" + locked_pub + "\n")
        with open(os.path.join(d, "known_hosts"), "w") as f:
            f.write(self.known_hosts_line() + "\n")
        with open(os.path.join(d, "wrong_known_hosts"), "w") as f:
            f.write("[127.0.0.1]:%d %s\n" % (
                self.port, " ".join(self.other_pub.split()[:2])))
        with open(os.path.join(d, "other_port_known_hosts"), "w") as f:
            f.write("[127.0.0.1]:%d %s\n" % (
                self.port + 1, " ".join(self.host_pub.split()[:2])))
        conf = os.path.join(d, "sshd_config")
        with open(conf, "w") as f:
            f.write("\n".join([
                "Port %d" % self.port,
                "ListenAddress 127.0.0.1",
                "HostKey %s" % os.path.join(d, "host_key"),
                "AuthorizedKeysFile %s" % os.path.join(d,
                                                       "authorized_keys"),
                "PidFile %s" % os.path.join(d, "sshd.pid"),
                "StrictModes no",
                "PasswordAuthentication %s" % ("yes" if self.password
                                               else "no"),
                "KbdInteractiveAuthentication no",
                "UsePAM no",
                "PermitRootLogin %s" % ("yes" if self.password else
                                        "prohibit-password"),
                "AllowUsers %s" % self.user,
                "Subsystem sftp internal-sftp",
                "LogLevel ERROR",
            ]) + "\n")
        os.makedirs("/run/sshd", exist_ok=True)     # privilege separation
        self.log = open(os.path.join(d, "sshd.log"), "w")
        argv = [SSHD, "-D", "-e", "-f", conf]
        if self.password:
            # The shadow copy is seen by this sshd only.
            argv = ["unshare", "--mount", "--propagation", "private",
                    "sh", "-c", 'mount --bind "$0" /etc/shadow && exec "$@"',
                    self.shadow()] + argv
        self.process = subprocess.Popen(argv,
                                        stdin=subprocess.DEVNULL,
                                        stdout=self.log, stderr=self.log)
        wait_listening(self.port, self.process)

    def known_hosts_line(self):
        return "[127.0.0.1]:%d %s" % (self.port,
                                      " ".join(self.host_pub.split()[:2]))

    def path(self, name):
        return os.path.join(self.dir, name)

    def stop(self):
        stop_process(self.process)
        self.log.close()


class Smbd:
    """smbd on a free port with share `files` at self.root."""

    PASSWORD = "smb-pass-2468"
    SHARE = "files"

    def __init__(self, workdir, password=None):
        self.dir = workdir.sub("smbd")
        self.root = workdir.sub("smbd/share")
        self.port = free_port()
        self.user = getpass.getuser()
        self.password = password or self.PASSWORD
        self.process = None

    def start(self):
        d = self.dir
        for sub in ("private", "lock", "state", "cache", "pid", "log"):
            os.makedirs(os.path.join(d, sub), exist_ok=True)
        self.conf = os.path.join(d, "smb.conf")
        with open(self.conf, "w") as f:
            f.write("\n".join([
                "[global]",
                "workgroup = AWTEST",
                "netbios name = AWTESTSMB",
                "server role = standalone server",
                "smb ports = %d" % self.port,
                "interfaces = 127.0.0.1",
                "bind interfaces only = yes",
                "private dir = %s/private" % d,
                "lock directory = %s/lock" % d,
                "state directory = %s/state" % d,
                "cache directory = %s/cache" % d,
                "pid directory = %s/pid" % d,
                "log file = %s/log/log.%%m" % d,
                "passdb backend = tdbsam:%s/private/passdb.tdb" % d,
                "disable netbios = yes",
                "load printers = no",
                "printing = bsd",
                "printcap name = /dev/null",
                "disable spoolss = yes",
                "map to guest = never",
                "[%s]" % self.SHARE,
                "path = %s" % self.root,
                "read only = yes",
                "valid users = %s" % self.user,
            ]) + "\n")
        subprocess.run(["smbpasswd", "-c", self.conf, "-s", "-a",
                        self.user], check=True, capture_output=True,
                       input=("%s\n%s\n" % (self.password,
                                            self.password)).encode())
        self.log = open(os.path.join(d, "smbd.out"), "w")
        # A session of its own (made here, not by smbd): at exit smbd
        # signals its whole process group.
        self.process = subprocess.Popen(
            [SMBD, "--foreground", "--no-process-group", "-s", self.conf,
             "--debug-stdout", "-d", "0"], stdin=subprocess.DEVNULL,
            stdout=self.log, stderr=self.log, start_new_session=True)
        wait_listening(self.port, self.process, timeout=30)

    def stop(self):
        stop_process(self.process)
        self.log.close()


class FileDriver:
    """What the Sftp and Smb suites share (sourcecases.py driver methods):
    a target is a directory under the server's root, a version a file."""

    KIND = "file"
    SCHEME = None
    server = None

    def setUp(self):
        super().setUp()
        self.faults = {}
        self.mtime = 1767261600

    def write_file(self, target, version, size):
        path = os.path.join(self.server.root, target, version)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as f:
            f.write("x" * size)
        self.mtime += 60
        os.utime(path, (self.mtime, self.mtime))

    def target(self, name, versions):
        for v in versions:
            self.write_file(name, v, 10)
        return name

    def add(self, target, version):
        self.write_file(target, version, 10)

    def rewrite(self, target, version):
        self.write_file(target, version, 20)

    def fault(self, target, kind):
        self.faults[target] = kind

    def subject(self, target, version):
        return "%s://127.0.0.1/%s" % (self.SCHEME,
                                      self.event_path(target, version)[1:])

    def check_fields(self, data, target, version):
        self.assertEqual(data["host"], "127.0.0.1")
        self.assertEqual(data["path"], self.event_path(target, version))
        size = os.path.getsize(os.path.join(self.server.root, target,
                                            version))
        self.assertEqual(data["size"], size)
        mtime = int(os.path.getmtime(os.path.join(self.server.root, target,
                                                  version)))
        self.assertEqual(data["digest"], "%d:%d" % (size, mtime))
        self.assertNotIn("bucket", data)
        self.assertNotIn("image", data)
