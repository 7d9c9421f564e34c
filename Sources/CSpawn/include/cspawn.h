// cspawn.h — the two glibc calls ChildProcess (TrellisSpawn) needs that Swift's Glibc module does not declare
// (they are GNU extensions, visible only under _GNU_SOURCE, which spawn.c defines).
#ifndef TRELLIS_CSPAWN_H
#define TRELLIS_CSPAWN_H
#include <spawn.h>

/// pipe2(fds, O_CLOEXEC): both ends close-on-exec. 0, or -1 with errno set.
int trellis_pipe_cloexec(int fds[2]);

/// posix_spawn_file_actions_addclosefrom_np(actions, from) (glibc >= 2.34): the child closes every descriptor
/// >= from after the earlier actions. 0, or an error number.
int trellis_spawn_add_closefrom(posix_spawn_file_actions_t *actions, int from);

#endif
