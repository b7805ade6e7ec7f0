# cmake -DOUTPUT=file.cpp -DINPUTS="a.sql;b.sql" -P EmbedSchema.cmake
# Writes a C++ file holding each migration's SQL as a raw string literal. Refuses
# names that are not NNNN_name.sql and gaps in the numbering, so a mistake fails
# the build instead of a customer's upgrade.
set(body "")
set(expected 1)
foreach(input IN LISTS INPUTS)
  get_filename_component(file_name ${input} NAME)
  if(NOT file_name MATCHES "^([0-9][0-9][0-9][0-9])_([a-z0-9_]+)\\.sql$")
    message(FATAL_ERROR "schema file ${file_name}: the name must be NNNN_lowercase_name.sql")
  endif()
  math(EXPR level "${CMAKE_MATCH_1}")
  set(name ${CMAKE_MATCH_2})
  if(NOT level EQUAL expected)
    message(FATAL_ERROR "schema file ${file_name}: expected level ${expected}; levels must be consecutive from 0001")
  endif()
  math(EXPR expected "${expected} + 1")
  file(READ ${input} sql)
  if(sql MATCHES "\\)sluice_sql\"")
    message(FATAL_ERROR "schema file ${file_name} contains the raw-string delimiter )sluice_sql\"")
  endif()
  string(APPEND body "    {${level}, \"${name}\", R\"sluice_sql(${sql})sluice_sql\"},\n")
endforeach()
file(WRITE ${OUTPUT}.tmp "// Generated from schema/*.sql by cmake/EmbedSchema.cmake. Do not edit.\n"
  "#include \"schema/embedded_migrations.h\"\n\n"
  "namespace sluice::schema {\n\n"
  "namespace {\nconst Migration kMigrations[] = {\n${body}};\n}  // namespace\n\n"
  "std::span<const Migration> embedded_migrations() { return kMigrations; }\n\n"
  "}  // namespace sluice::schema\n")
file(COPY_FILE ${OUTPUT}.tmp ${OUTPUT} ONLY_IF_DIFFERENT)
file(REMOVE ${OUTPUT}.tmp)
