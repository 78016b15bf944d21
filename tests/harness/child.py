"""What the harness's child-process servers (SMTP, SFTP) share."""

import shutil
import subprocess


def stop_child(process, directory):
    """Stop a server child that exits when its standard input closes (kill
    it if it has not within 10 s), and remove its directory; either may be
    None."""
    if process is not None:
        process.stdin.close()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        process.stdout.close()
    if directory is not None:
        shutil.rmtree(directory, ignore_errors=True)
