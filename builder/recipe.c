/* Recipes, the model: freeing a recipe set and the lookups every module
 * uses (a VM, a base, a NIC, a service, a network's dynamic range, a
 * proxy VM's links).
 * Reading and checking live in recipe-load.c, recipe-schema.c and
 * recipe-check.c. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "recipe-int.h"
#include "recipe.h"
#include "util.h"
#include "validate.h"

static void
strlist_free(struct strlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	free(l->pos);
}

void
recipe_base_free(struct base *b)
{
	free(b->name);
	free(b->url);
	free(b->path);
	free(b->checksum_url);
	free(b->checksum);
	free(b->key_fingerprint);
	free(b->key_url);
}

static void
listener_free(struct proxy_listener *l)
{
	free(l->connect_ports);
	strlist_free(&l->domains);
	free(l->service);
}

static void
service_free(struct service *s)
{
	free(s->name);
	free(s->image);
	free(s->build);
	strlist_free(&s->ports);
	free(s->network);
	free(s->ip);
	free(s->dns);
	free(s->dns_resolved);
	strlist_free(&s->volumes);
	for (size_t i = 0; i < s->nenv; i++) {
		free(s->env[i].key);
		free(s->env[i].value);
	}
	free(s->env);
	for (size_t i = 0; i < s->nsecrets; i++) {
		free(s->secrets[i].name);
		free(s->secrets[i].env);
	}
	free(s->secrets);
	free(s->restart);
}

void
recipe_vm_free(struct vm *vm)
{
	free(vm->file);
	free(vm->name);
	free(vm->base);
	free(vm->hostname);
	for (size_t i = 0; i < vm->nusers; i++) {
		struct user *u = &vm->users[i];

		free(u->name);
		free(u->password_hash);
		strlist_free(&u->groups);
		strlist_free(&u->ssh_keys);
		free(u->shell);
	}
	free(vm->users);
	for (size_t i = 0; i < vm->nnics; i++) {
		struct nic *n = &vm->nics[i];

		free(n->name);
		free(n->mac);
		free(n->address);
		for (size_t j = 0; j < n->nforwards; j++)
			free(n->forwards[j].host_addr);
		free(n->forwards);
	}
	free(vm->nics);
	strlist_free(&vm->packages);
	for (size_t i = 0; i < vm->nnetworks; i++) {
		free(vm->networks[i].name);
		free(vm->networks[i].subnet);
		free(vm->networks[i].gateway);
	}
	free(vm->networks);
	for (size_t i = 0; i < vm->nservices; i++)
		service_free(&vm->services[i]);
	free(vm->services);
	listener_free(&vm->proxy_server.http);
	listener_free(&vm->proxy_server.ssh);
	free(vm->proxy_server.dns_service);
	free(vm->use_proxy.vm);
	strlist_free(&vm->use_proxy.no_proxy);
	strlist_free(&vm->gui.apps);
	for (size_t i = 0; i < vm->nfiles; i++) {
		struct file_spec *fs = &vm->files[i];

		free(fs->path);
		free(fs->content);
		free(fs->template);
		free(fs->owner);
		free(fs->group);
	}
	free(vm->files);
	free(vm->overlay);
	strlist_free(&vm->units);
}

void
recipe_set_free(struct recipe_set *set)
{
	if (set == NULL)
		return;
	for (size_t i = 0; i < set->nbases; i++)
		recipe_base_free(&set->bases[i]);
	for (size_t i = 0; i < set->nvms; i++)
		recipe_vm_free(&set->vms[i]);
	for (size_t i = 0; i < set->nfiles; i++)
		free(set->files[i]);
	free(set->bases);
	free(set->vms);
	free(set->files);
	free(set->dir);
	free(set);
}

struct vm *
recipe_find_vm(const struct recipe_set *set, const char *name)
{
	for (size_t i = 0; i < set->nvms; i++)
		if (strcmp(set->vms[i].name, name) == 0)
			return &set->vms[i];
	return NULL;
}

struct base *
recipe_find_base(const struct recipe_set *set, const char *name)
{
	for (size_t i = 0; i < set->nbases; i++)
		if (strcmp(set->bases[i].name, name) == 0)
			return &set->bases[i];
	return NULL;
}

const struct nic *
vm_nic(const struct vm *vm, enum nic_kind kind)
{
	for (size_t i = 0; i < vm->nnics; i++)
		if (vm->nics[i].kind == kind)
			return &vm->nics[i];
	return NULL;
}

const struct service *
vm_service(const struct vm *vm, const char *name)
{
	for (size_t i = 0; name != NULL && i < vm->nservices; i++)
		if (vm->services[i].name != NULL &&
		    strcmp(vm->services[i].name, name) == 0)
			return &vm->services[i];
	return NULL;
}

size_t
vm_link_clients(const struct recipe_set *set, const struct vm *proxy,
		const struct vm **ret, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; set != NULL && i < set->nvms; i++) {
		const struct vm *v = &set->vms[i];

		if (v == proxy || !v->use_proxy.present ||
		    v->use_proxy.target != proxy ||
		    vm_nic(v, NIC_INTERNAL) == NULL)
			continue;
		if (n < max)
			ret[n] = v;
		n++;
	}
	return n;
}

bool
nic_link_id(const struct nic *n, size_t i, char **ret_name, char ret_mac[18])
{
	unsigned b[6];
	char *name;

	if (n->mac == NULL || strlen(n->mac) != 17 ||
	    sscanf(n->mac, "%2x:%2x:%2x:%2x:%2x:%2x", &b[0], &b[1], &b[2],
		   &b[3], &b[4], &b[5]) != 6)
		return false;
	name = i == 0 ? xstrdup(n->name) : xasprintf("%s%zu", n->name, i);
	if (strlen(name) > 15) {
		free(name);
		return false;
	}
	snprintf(ret_mac, 18, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2],
		 b[3], b[4], (unsigned)((b[5] + i) & 0xff));
	*ret_name = name;
	return true;
}

char *
pnetwork_dynamic_range(const struct pnetwork *net)
{
	uint32_t a;
	unsigned p;

	if (net->subnet == NULL || !valid_subnet(net->subnet) ||
	    !parse_cidr(net->subnet, &a, &p) || p > 29)
		return NULL;
	a |= 1u << (31 - p);
	return xasprintf("%u.%u.%u.%u/%u", a >> 24, (a >> 16) & 0xff,
			 (a >> 8) & 0xff, a & 0xff, p + 1);
}
