/* Package file names, pure: what sbx.lock's package pins record. */
#ifndef SBX_PKGFILE_H
#define SBX_PKGFILE_H

/* Splits a package file name, "hello_2.10-3_amd64.deb" or
 * "podman-5.4.0-1.fc44.x86_64.rpm", into name, version and architecture;
 * -EINVAL for anything else.  A Debian epoch written "%3a" becomes ':'. */
int pkgfile_parse(const char *file, char **ret_name, char **ret_version,
		  char **ret_arch);

#endif
