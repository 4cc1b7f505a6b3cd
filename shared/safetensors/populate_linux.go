package safetensors

import "golang.org/x/sys/unix"

const populateRead = unix.MADV_POPULATE_READ
