package main

import "syscall"

// childSysProcAttr puts the server in its own process group (so a terminal
// Ctrl-C reaches only tmbench, which then stops the server with SIGTERM) and
// asks the kernel to SIGTERM it should tmbench die without cleaning up.
func childSysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGTERM}
}
