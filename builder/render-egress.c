/* The proxy VM's egress log (issue 15): every proxied request and DNS
 * query, with its time, client VM and verdict, carried to the host over
 * the virtio-serial port org.sbx.egress, whose host side is the file
 * out/logs/egress.log (runscript-ssh.c).  A journalctl follower feeds an
 * awk program that pairs tinyproxy's per-worker lines (Connect, Request,
 * then "Established connection" or "Proxying refused") and dnsmasq's
 * query/answer lines; the link addresses of the VMs that use this proxy
 * are printed as their names.  One line per event:
 *
 *	TIME CLIENT allowed|filtered|denied|error proxy|dns DETAIL
 *
 * ("error": a request that got no verdict before the proxy's next
 * connection, such as an unreachable upstream, or a DNS query that got
 * no answer within 5-10 s). */
#include <string.h>

#include "escape.h"
#include "render-int.h"

#define EGRESS_PORT   "org.sbx.egress"
#define EGRESS_UNIT   "sbx-egress-log.service"
#define EGRESS_AWK    "/usr/local/libexec/sbx-egress.awk"
#define EGRESS_FOLLOW "/usr/local/libexec/sbx-egress"
#define EGRESS_TICK   "sbx-egress-tick"
#define EGRESS_TICK_S "5"

static const char egress_awk[] =
	"function who(ip) { return (ip in vm) ? vm[ip] : ip }\n"
	"function out(t, c, v, k, d) {\n"
	"\tprintf \"%s %s %s %s %s\\n\", t, c, v, k, d; fflush()\n"
	"}\n"
	"{ t = $1; w = $2 } # w: the proxy (journal ident[pid])\n"
	"/Connect \\(file descriptor [0-9]+\\): / {\n"
	"\tif (w in rq) out(t, who(cl[w]), \"error\", \"proxy\", rq[w])\n"
	"\tdelete rq[w]; cl[w] = $NF; next\n"
	"}\n"
	"/Request \\(file descriptor [0-9]+\\): / {\n"
	"\tr = $0; sub(/.*Request \\(file descriptor [0-9]+\\): /, \"\", r)\n"
	"\tsub(/ HTTP\\/[0-9.]+$/, \"\", r); rq[w] = r; next\n"
	"}\n"
	"/Established connection to host / {\n"
	"\tif (w in rq) out(t, who(cl[w]), \"allowed\", \"proxy\", rq[w])\n"
	"\tdelete rq[w]; next\n"
	"}\n"
	"/Proxying refused on filtered |Refused CONNECT method on port "
	"|Unauthorized connection from |Access denied/ {\n"
	"\tv = $0 ~ /filtered/ ? \"filtered\" : \"denied\"\n"
	"\tr = (w in rq) ? rq[w] : $0\n"
	"\tif (!(w in rq)) sub(/.*\\]: /, \"\", r)\n"
	"\tout(t, who(cl[w]), v, \"proxy\", r); delete rq[w]; next\n"
	"}\n"
	/* DNS: each query waits in dn[] (name), dt[] (time), dc[] (client),
	 * dd[] (detail), dk[] (tick) for its answer line; the oldest one of
	 * that name takes the answer.  The follower adds a tick line every
	 * few seconds: a query still waiting after a whole tick got no
	 * answer ("error"), as does one dnsmasq answers "config error is". */
	"function dns(i, v) { out(dt[i], dc[i], v, \"dns\", dd[i]); delete "
	"dn[i] }\n"
	"function settle() { while (lo <= nq && !(lo in dn)) lo++ }\n"
	"function answer(n, v,  i) {\n"
	"\tfor (i = lo; i <= nq; i++) if ((i in dn) && dn[i] == n) { dns(i, "
	"v); "
	"break }\n"
	"\tsettle()\n"
	"}\n"
	"$0 == \"" EGRESS_TICK "\" {\n"
	"\ttick++\n"
	"\tfor (i = lo; i <= nq; i++) if ((i in dn) && dk[i] < tick - 1) "
	"dns(i, \"error\")\n"
	"\tsettle(); next\n"
	"}\n"
	"/ query\\[[A-Za-z0-9]+\\] [^ ]+ from / {\n"
	"\tq = $0; sub(/.* query\\[/, \"\", q); split(q, a, /[] ]+/)\n"
	"\tnq++; dn[nq] = a[2]; dt[nq] = t; dc[nq] = who(a[4])\n"
	"\tdd[nq] = a[1] \" \" a[2]; dk[nq] = tick; last = a[2]; next\n"
	"}\n"
	"/ config error is / { answer(last, \"error\"); next }\n"
	"/ (gravity blocked|regex blacklisted|blacklisted|blocked|denied) "
	"[^ ]+ is / {\n"
	"\tn = $0; sub(/ is .*/, \"\", n); sub(/.* /, \"\", n)\n"
	"\tanswer(n, \"filtered\"); next\n"
	"}\n"
	"/ (reply|cached|config|forwarded|cached-stale) [^ ]+ (is|to) / {\n"
	"\tn = $0; sub(/ (is|to) .*/, \"\", n); sub(/.* /, \"\", n)\n"
	"\tanswer(n, \"allowed\")\n"
	"}\n";

/* The VMs whose link leads to VM: awk lines "vm["ADDR"] = "NAME"". */
static void
client_names(struct rctx *c, struct strbuf *sb)
{
	const struct recipe_set *set = c->in->set;

	sb_puts(sb, "BEGIN {\n");
	for (size_t i = 0; set != NULL && i < set->nvms; i++) {
		const struct vm *v = &set->vms[i];
		const struct nic *n = vm_nic(v, NIC_INTERNAL);

		if (n == NULL || n->address == NULL ||
		    !esc_filename_ok(v->name) ||
		    strspn(n->address, "0123456789abcdef.:") !=
			    strlen(n->address))
			continue;
		if (v == c->vm ||
		    (v->use_proxy.present && v->use_proxy.target == c->vm))
			sb_printf(sb, "\tvm[\"%s\"] = \"%s\"\n", n->address,
				  v->name);
	}
	sb_puts(sb, "}\n");
}

void
render_egress(struct rctx *c)
{
	const struct vm *vm = c->vm;
	const struct proxy_server *ps = &vm->proxy_server;
	struct strbuf sb = STRBUF_INIT;
	const char *units[3];
	size_t nunits = 0;

	if (!ps->present)
		return;
	if (ps->http.enabled && esc_filename_ok(ps->http.service))
		units[nunits++] = ps->http.service;
	if (ps->ssh.enabled && esc_filename_ok(ps->ssh.service))
		units[nunits++] = ps->ssh.service;
	if (ps->dns_service != NULL && esc_filename_ok(ps->dns_service))
		units[nunits++] = ps->dns_service;
	if (nunits == 0)
		return;

	r_header(&sb, c, "#",
		 "The egress log: proxied requests and DNS queries, one "
		 "line each:\n# TIME CLIENT allowed|filtered|denied proxy|dns "
		 "DETAIL");
	client_names(c, &sb);
	sb_puts(&sb, egress_awk);
	r_file(c, vm->pos, EGRESS_AWK, "root", "root", 0644, &sb);

	sb_puts(&sb, "#!/bin/sh\n");
	r_header(&sb, c, "#",
		 "Follows the proxies' and the DNS service's journal "
		 "into " EGRESS_AWK ".");
	/* mawk (Debian's awk) reads a pipe in blocks unless -W interactive:
	 * lines would wait for the next few kilobytes. */
	sb_puts(&sb, "set -- -f " EGRESS_AWK "\n"
		     "if awk -W version 2>&1 | grep -q mawk; then set -- -W "
		     "interactive \"$@\"; fi\n"
		     "# A tick line every " EGRESS_TICK_S " s lets the awk "
		     "program give up on a DNS query\n"
		     "# that got no answer; the ticks stop when journalctl "
		     "does, so the\n"
		     "# pipe closes and the unit restarts.\n"
		     "{\n"
		     "\twhile :; do\n"
		     "\t\techo " EGRESS_TICK "\n"
		     "\t\tsleep " EGRESS_TICK_S " >/dev/null\n"
		     "\tdone &\n"
		     "\tt=$!\n"
		     "\tjournalctl -f -n 0 -q -o short-iso --no-hostname");
	for (size_t i = 0; i < nunits; i++)
		sb_printf(&sb, " -u %s.service", units[i]);
	sb_puts(&sb, "\n"
		     "\tkill \"$t\"\n"
		     "} | exec awk \"$@\"\n");
	r_file(c, vm->pos, EGRESS_FOLLOW, "root", "root", 0755, &sb);

	r_header(&sb, c, "#",
		 "The egress log to the host over the virtio-serial "
		 "port " EGRESS_PORT ":\n# no network path.");
	sb_puts(&sb,
		"[Unit]\n"
		"Description=sbx egress log to the host (" EGRESS_PORT ")\n"
		"After=systemd-journald.service\n"
		"StartLimitIntervalSec=0\n"
		"\n"
		"[Service]\n"
		"# udev names the port late in a slow boot.\n"
		"ExecStartPre=/usr/bin/udevadm wait --timeout=120 "
		"/dev/virtio-ports/" EGRESS_PORT "\n"
		"ExecStart=/bin/sh -c 'exec " EGRESS_FOLLOW
		" >/dev/virtio-ports/" EGRESS_PORT "'\n"
		"Restart=always\n"
		"RestartSec=2\n"
		"\n"
		"[Install]\n"
		"WantedBy=multi-user.target\n");
	r_file(c, vm->pos, "/etc/systemd/system/" EGRESS_UNIT, "root", "root",
	       0644, &sb);
	r_symlink(c, vm->pos,
		  "/etc/systemd/system/multi-user.target.wants/" EGRESS_UNIT,
		  "/etc/systemd/system/" EGRESS_UNIT);
}
