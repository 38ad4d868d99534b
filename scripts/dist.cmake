# `make dist`: stages the installed tree with the release binary in place of
# bin/octoscale, adds README, and packs bin/, share/ and README at the top of
# OUT (Octopus extracts a package as it is: <ExtractedPath>/bin/octoscale).
file(REMOVE_RECURSE ${STAGE})
execute_process(COMMAND ${CMAKE_COMMAND} --install ${BUILD} --prefix ${STAGE}
                OUTPUT_QUIET RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dist: cmake --install ${BUILD} failed")
endif()
execute_process(COMMAND ${CMAKE_COMMAND} -E copy ${BIN} ${STAGE}/bin/octoscale
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dist: cannot copy ${BIN}")
endif()
configure_file(${README} ${STAGE}/README @ONLY)
file(REMOVE ${OUT})
execute_process(COMMAND ${CMAKE_COMMAND} -E tar czf ${OUT} bin share README
                WORKING_DIRECTORY ${STAGE} RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "dist: cannot write ${OUT}")
endif()
message(STATUS "dist: ${OUT}")
