/*
 * test-provider-files.c: the files family's pure parts: sftp:// and
 * smb:// URLs, directories, the known_hosts key types that become
 * libssh2's host key preference, and the listing a child prints.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <criterion/criterion.h>

#include "../../providers/files/provider-files.h"

Test(files, urls)
{
	struct files_url	 u;
	char			*cause = NULL;

	cr_assert_eq(files_url_parse("sftp://files.example.com", "sftp", 0,
	    &u, &cause), 0);
	cr_assert_str_eq(u.host, "files.example.com");
	cr_assert_eq(u.port, 0);
	files_url_clear(&u);
	cr_assert_eq(files_url_parse("sftp://127.0.0.1:2222/", "sftp", 0, &u,
	    &cause), 0);
	cr_assert_eq(u.port, 2222);
	files_url_clear(&u);
	cr_assert_eq(files_url_parse("sftp://[::1]:22", "sftp", 0, &u,
	    &cause), 0);
	cr_assert_str_eq(u.host, "::1");
	files_url_clear(&u);
	cr_assert_eq(files_url_parse("smb://nas:1445/builds", "smb", 1, &u,
	    &cause), 0);
	cr_assert_str_eq(u.share, "builds");
	cr_assert_eq(u.port, 1445);
	files_url_clear(&u);
	cr_assert_eq(files_url_parse("smb://nas", "smb", 1, &u, &cause), -1);
	free(cause);
	cr_assert_eq(files_url_parse("smb://nas/share/dir", "smb", 1, &u,
	    &cause), -1);
	free(cause);
	cr_assert_eq(files_url_parse("sftp://user:pw@host", "sftp", 0, &u,
	    &cause), -1);
	cr_assert_null(strstr(cause, "pw"));
	free(cause);
	cr_assert_eq(files_url_parse("http://host", "sftp", 0, &u, &cause),
	    -1);
	free(cause);
	cr_assert_eq(files_url_parse("sftp://host:99999", "sftp", 0, &u,
	    &cause), -1);
	free(cause);
	cr_assert_eq(files_url_parse("sftp://:22", "sftp", 0, &u, &cause),
	    -1);
	free(cause);
}

Test(files, directories)
{
	char	*d, *cause = NULL;

	cr_assert_eq(files_directory_clean("/a//b/./c/", &d, &cause), 0);
	cr_assert_str_eq(d, "/a/b/c");
	free(d);
	cr_assert_eq(files_directory_clean("a/b", &d, &cause), 0);
	cr_assert_str_eq(d, "a/b");
	free(d);
	cr_assert_eq(files_directory_clean("/", &d, &cause), 0);
	cr_assert_str_eq(d, "/");
	free(d);
	cr_assert_eq(files_directory_clean("", &d, &cause), 0);
	cr_assert_str_eq(d, "");
	free(d);
	cr_assert_eq(files_directory_clean("a/../../etc", &d, &cause), -1);
	free(cause);
}

Test(files, known_hosts_methods)
{
	char	*m;

	m = files_known_hosts_methods("# comment ssh-rsa\n"
	    "[h]:2222 ssh-ed25519 AAAA\n"
	    "h,1.2.3.4 ecdsa-sha2-nistp256 AAAA x\n"
	    "@cert-authority * ssh-rsa AAAA\n"
	    "h ssh-ed25519 BBBB\n");
	cr_assert_str_eq(m, "ssh-ed25519,ecdsa-sha2-nistp256,"
	    "rsa-sha2-512,rsa-sha2-256,ssh-rsa");
	free(m);
	cr_assert_null(files_known_hosts_methods("nothing here\n"));
	cr_assert_null(files_known_hosts_methods(""));
}

Test(files, listing)
{
	const char	*body = "{\"entries\":[{\"path\":\"app-1.0.tgz\","
	    "\"size\":10,\"mtime\":1767261600},{\"path\":\"sub/app-2.0.tgz\","
	    "\"size\":20,\"mtime\":1767261660},{\"path\":\"\",\"size\":1,"
	    "\"mtime\":1},{\"path\":\"neg\",\"size\":-1,\"mtime\":1}],"
	    "\"truncated\":false}";
	struct versions	 vs = { 0 };
	char		*cause = NULL;

	cr_assert_eq(files_parse_listing(body, strlen(body), "/srv/drop", 100,
	    &vs, &cause), 0, "%s", cause);
	cr_assert_eq(vs.n, 2);
	cr_assert_str_eq(vs.v[0].name, "app-1.0.tgz");
	cr_assert_str_eq(vs.v[0].digest, "10:1767261600");
	cr_assert_eq(vs.v[0].pushed_at, 1767261600);
	cr_assert_eq(vs.v[0].size, 10);
	cr_assert_str_eq(cJSON_GetObjectItem(vs.v[1].fields,
	    "path")->valuestring, "/srv/drop/sub/app-2.0.tgz");
	cr_assert_eq(cJSON_GetObjectItem(vs.v[1].fields, "size")->valuedouble,
	    20);
	cr_assert_not(vs.truncated);
	versions_free(&vs);

	memset(&vs, 0, sizeof vs);
	cr_assert_eq(files_parse_listing(body, strlen(body), "/", 1, &vs,
	    &cause), 0);
	cr_assert_eq(vs.n, 1);
	cr_assert(vs.truncated);
	cr_assert_str_eq(cJSON_GetObjectItem(vs.v[0].fields,
	    "path")->valuestring, "/app-1.0.tgz");
	versions_free(&vs);

	memset(&vs, 0, sizeof vs);
	cr_assert_eq(files_parse_listing("[]", 2, "", 10, &vs, &cause), -1);
	free(cause);
	cr_assert_eq(files_parse_listing("{}", 2, "", 10, &vs, &cause), -1);
	free(cause);
}
