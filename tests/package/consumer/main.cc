// Embeds caserepo through its installed package: create, get, search.
#include <caserepo/caserepo.h>

#include <cstdio>

int main() {
  caserepo::Repository repo;
  caserepo::CreateRequest request;
  request.caseType = "LOAN";
  request.clientId = "12345678901";
  request.clientType = "PESEL";
  request.status = "OPEN";
  auto created = repo.create(request);
  if (!created) return 1;
  auto current = repo.get(created->caseId);
  caserepo::Filter filter;
  filter.status = {"OPEN"};
  auto page = repo.search(filter);
  if (!current || !page || page->totalElements != 1) return 2;
  std::printf("consumer ok: %s %s\n", current->caseId.c_str(), current->status.c_str());
  return 0;
}
