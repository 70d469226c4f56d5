package dev.nimbus.api;

import static org.junit.jupiter.api.Assertions.assertThrows;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;

/** The contract checks the API tests rely on do catch bodies that break the contract. */
class OpenApiContractTest {
    @Test
    void pingWithoutVersionBreaksTheContract() {
        assertThrows(AssertionFailedError.class, () -> OpenApiContract.assertResponseValid("GET",
                "vmm.ping", 200, "{\"pid\":1}"));
        OpenApiContract.assertResponseValid("GET", "vmm.ping", 200, "{\"version\":\"1\"}");
    }

    @Test
    void vmConfigWithoutPayloadOrWithWrongTypesBreaksTheContract() {
        assertThrows(AssertionFailedError.class,
                () -> OpenApiContract.assertRequestValid("PUT", "vm.create", "{}"));
        assertThrows(AssertionFailedError.class, () -> OpenApiContract.assertRequestValid("PUT",
                "vm.create", "{\"payload\":{},\"cpus\":{\"boot_vcpus\":\"1\",\"max_vcpus\":1}}"));
        OpenApiContract.assertRequestValid("PUT", "vm.create", ApiServerTest.VM_JSON);
    }

    @Test
    void errorBodiesMustBeArraysOfStrings() {
        assertThrows(AssertionFailedError.class,
                () -> OpenApiContract.assertResponseValid("PUT", "vm.boot", 500, "[1]"));
    }
}
